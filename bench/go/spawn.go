//go:build ignore

// Go baseline for lugo's spawn: start N goroutines, each sends one value on a
// shared buffered done channel; main receives N times.
// Reports microseconds per goroutine.
// usage: go run spawn.go [N=100000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	done := make(chan bool, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(d chan bool) { d <- true }(done)
	}
	for i := 0; i < n; i++ {
		<-done
	}
	el := time.Since(t0)
	fmt.Printf("spawn %.3f us/op\n", el.Seconds()*1e6/float64(n))
}
