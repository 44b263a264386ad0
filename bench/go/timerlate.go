//go:build ignore

// Go baseline for lugo's timerlate: K goroutines, all started first (they
// wait on a gate), sleep 1-50 ms and measure how late they woke; prints the
// median (p99 on stderr).
// usage: go run timerlate.go [K=2000]
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

func main() {
	k := 2000
	if len(os.Args) > 1 {
		k, _ = strconv.Atoi(os.Args[1])
	}
	out := make(chan time.Duration, k)
	gate := make(chan struct{})
	var ready sync.WaitGroup
	for i := 0; i < k; i++ {
		ready.Add(1)
		go func(i int) {
			ready.Done()
			<-gate
			d := time.Millisecond + time.Duration(i%50)*time.Millisecond
			due := time.Now().Add(d)
			time.Sleep(d)
			out <- time.Since(due)
		}(i)
	}
	ready.Wait()
	close(gate)
	late := make([]float64, k)
	for i := range late {
		late[i] = float64((<-out).Nanoseconds()) / 1e3
	}
	sort.Float64s(late)
	fmt.Fprintf(os.Stderr, "timerlate p99 %.1f us, max %.1f us\n", late[k*99/100], late[k-1])
	fmt.Printf("timerlate %.1f us\n", late[k/2])
}
