//go:build ignore

// Go baseline for lugo's timerstop: NewTimer + Stop with a million other
// timers pending.
// usage: go run timerstop.go [N=1000000] [PENDING=1000000]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n, pending := 1000000, 1000000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		pending, _ = strconv.Atoi(os.Args[2])
	}
	keep := make([]*time.Timer, pending)
	for i := range keep {
		keep[i] = time.NewTimer(time.Hour + time.Duration(i)*time.Microsecond)
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		t := time.NewTimer(30 * time.Minute)
		t.Stop()
	}
	fmt.Printf("timerstop %.2f ns/op\n", float64(time.Since(t0).Nanoseconds())/float64(n))
	if len(keep) < 0 {
		fmt.Println(keep[0])
	}
}
