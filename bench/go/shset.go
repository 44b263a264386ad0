//go:build ignore

// Go twin of lugo's shset: a map behind a sync.Mutex, one goroutine
// stores an integer under a string key.
// usage: go run shset.go [N=5000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 5000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var mu sync.Mutex
	m := map[string]any{"key": 0}
	t0 := time.Now()
	for i := 1; i <= n; i++ {
		mu.Lock()
		m["key"] = i
		mu.Unlock()
	}
	el := time.Since(t0)
	if m["key"].(int) != n {
		panic("shset")
	}
	fmt.Printf("shset %.2f ns/op\n", float64(el.Nanoseconds())/float64(n))
}
