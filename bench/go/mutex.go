//go:build ignore

// Go baseline for lugo's mutex: uncontended Lock+Unlock pairs.
// usage: go run mutex.go [N=2000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 2000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	t0 := time.Now()
	for i := 0; i < n; i++ {
		mu.Lock()
		mu.Unlock()
	}
	fmt.Printf("mutex %.2f ns/op\n", float64(time.Since(t0).Nanoseconds())/float64(n))
}
