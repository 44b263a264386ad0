//go:build ignore

// Go baseline for lugo's pingpong: main and one goroutine bounce an integer
// over two unbuffered channels. Reports nanoseconds per round trip.
// usage: go run pingpong.go [N=200000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 200000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ping, pong := make(chan int), make(chan int)
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v + 1
		}
	}()
	t0 := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	el := time.Since(t0)
	if v != n {
		panic("pingpong: wrong final value")
	}
	fmt.Printf("pingpong %.1f ns/op\n", float64(el.Nanoseconds())/float64(n))
}
