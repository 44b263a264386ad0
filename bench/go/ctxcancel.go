//go:build ignore

// Go baseline for lugo's ctxcancel: context.WithCancel of a long-lived
// parent, then cancel.
// usage: go run ctxcancel.go [N=1000000]
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	parent, pcancel := context.WithCancel(context.Background())
	t0 := time.Now()
	for i := 0; i < n; i++ {
		_, cancel := context.WithCancel(parent)
		cancel()
	}
	dt := time.Since(t0)
	if parent.Err() != nil {
		panic("parent cancelled")
	}
	pcancel()
	fmt.Printf("ctxcancel %.2f ns/op\n", float64(dt.Nanoseconds())/float64(n))
}
