//go:build ignore

// Go twin of lugo's shget: what a Go program shares between goroutines
// as a table, a map behind a sync.Mutex; one goroutine reads a string key.
// usage: go run shget.go [N=5000000]
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
	m := map[string]any{"key": 42}
	var x any
	t0 := time.Now()
	for i := 0; i < n; i++ {
		mu.Lock()
		x = m["key"]
		mu.Unlock()
	}
	el := time.Since(t0)
	if x.(int) != 42 {
		panic("shget")
	}
	fmt.Printf("shget %.2f ns/op\n", float64(el.Nanoseconds())/float64(n))
}
