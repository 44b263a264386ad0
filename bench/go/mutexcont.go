//go:build ignore

// Go baseline for lugo's mutexcont: 2 goroutines hammer one Mutex.
// usage: go run mutexcont.go [N=500000 per goroutine]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := 500000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var c atomic.Int64
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				mu.Lock()
				c.Add(1)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("mutexcont %.2f ns/op\n", float64(time.Since(t0).Nanoseconds())/float64(2*n))
}
