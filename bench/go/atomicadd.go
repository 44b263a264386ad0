//go:build ignore

// Go baseline for lugo's atomicadd: uncontended atomic.Int64 Add.
// usage: go run atomicadd.go [N=5000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	n := 5000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var a atomic.Int64
	t0 := time.Now()
	for i := 0; i < n; i++ {
		a.Add(1)
	}
	if a.Load() != int64(n) {
		panic("lost adds")
	}
	fmt.Printf("atomicadd %.2f ns/op\n", float64(time.Since(t0).Nanoseconds())/float64(n))
}
