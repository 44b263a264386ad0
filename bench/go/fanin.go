//go:build ignore

// Go baseline for lugo's fanin: 4 producers each send N/4 ints into one
// chan int of capacity 128; main receives all. Reports millions of msgs/s.
// usage: go run fanin.go [N=1000000]
package main

import (
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
	const p = 4
	per := n / p
	total := per * p
	ch := make(chan int, 128)
	t0 := time.Now()
	for j := 0; j < p; j++ {
		go func() {
			for i := 1; i <= per; i++ {
				ch <- i
			}
		}()
	}
	sum := 0
	for i := 0; i < total; i++ {
		sum += <-ch
	}
	el := time.Since(t0)
	if sum != p*per*(per+1)/2 {
		panic("fanin: wrong sum")
	}
	fmt.Printf("fanin %.3f Mmsg/s\n", float64(total)/el.Seconds()/1e6)
}
