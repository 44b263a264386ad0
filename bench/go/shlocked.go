//go:build ignore

// Go twin of lugo's shlocked: 2 goroutines increment one map entry under
// one sync.Mutex.  ns per increment over both goroutines.
// usage: go run shlocked.go [N=400000 in all]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 400000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	m := map[string]int{"n": 0}
	t0 := time.Now()
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/2; i++ {
				mu.Lock()
				m["n"] = m["n"] + 1
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if m["n"] != n/2*2 {
		panic("lost updates")
	}
	fmt.Printf("shlocked %.2f ns/op\n", float64(el.Nanoseconds())/float64(n))
}
