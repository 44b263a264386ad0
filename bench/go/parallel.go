//go:build ignore

// Go baseline for lugo's parallel: W Leibniz-series terms split into K equal
// chunks, one goroutine each. Parallelism comes from the GOMAXPROCS
// environment variable (the runner uses 1 and 2). Reports total seconds.
// usage: GOMAXPROCS=P go run parallel.go [K=2] [W=50000000]
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

func partial(lo, hi int, out chan<- float64) {
	s := 0.0
	for i := lo; i < hi; i++ {
		s = s + 1.0/float64(4*i+1) - 1.0/float64(4*i+3)
	}
	out <- s
}

func main() {
	k, w := 2, 50000000
	if len(os.Args) > 1 {
		k, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		w, _ = strconv.Atoi(os.Args[2])
	}
	out := make(chan float64, k)
	t0 := time.Now()
	for j := 0; j < k; j++ {
		go partial(w*j/k, w*(j+1)/k, out)
	}
	sum := 0.0
	for j := 0; j < k; j++ {
		sum += <-out
	}
	el := time.Since(t0)
	if math.Abs(4*sum-math.Pi) > 1e-6 {
		panic(fmt.Sprint("parallel: wrong result ", 4*sum))
	}
	fmt.Printf("parallel %.4f s\n", el.Seconds())
}
