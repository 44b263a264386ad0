//go:build ignore

// Go twin of lugo's shcontend: 2 goroutines each get and set their own
// key of one map behind a sync.Mutex (a read-modify-write, two lockings).
// usage: go run shcontend.go [N=1000000 per goroutine]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	m := map[string]any{"a": 0, "b": 0}
	t0 := time.Now()
	for _, k := range []string{"a", "b"} {
		wg.Add(1)
		go func(k string) {
			defer wg.Done()
			for i := 0; i < n/2; i++ {
				mu.Lock()
				v := m[k].(int)
				mu.Unlock()
				mu.Lock()
				m[k] = v + 1
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	el := time.Since(t0)
	if m["a"].(int) != n/2 || m["b"].(int) != n/2 {
		panic("shcontend")
	}
	fmt.Printf("shcontend %.2f ns/op\n", float64(el.Nanoseconds())/float64(2*n))
}
