//go:build ignore

// Go twin of lugo's fzget: data that never changes is read by goroutines
// with no lock at all, here a map read with a string key.
// usage: go run fzget.go [N=5000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var sink any

func main() {
	n := 5000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	m := map[string]any{"key": 42}
	var x any
	t0 := time.Now()
	for i := 0; i < n; i++ {
		x = m["key"]
	}
	el := time.Since(t0)
	sink = x
	if x.(int) != 42 {
		panic("fzget")
	}
	fmt.Printf("fzget %.2f ns/op\n", float64(el.Nanoseconds())/float64(n))
}
