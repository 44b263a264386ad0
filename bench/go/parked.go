//go:build ignore

// Go baseline for lugo's parked: N goroutines each signal ready and then block
// on <-ch. Reports KB of RSS (VmRSS from /proc/self/status, as the Lua
// versions do) per parked goroutine.
// usage: go run parked.go [N=100000]
package main

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"time"
)

var rssRe = regexp.MustCompile(`VmRSS:\s*(\d+)`)

func rssKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		panic(err)
	}
	m := rssRe.FindSubmatch(b)
	if m == nil {
		panic("no VmRSS")
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	ch := make(chan int)
	ready := make(chan bool, n) // allocated before the first reading
	runtime.GC()
	before := rssKB()
	for i := 0; i < n; i++ {
		go func() {
			ready <- true
			<-ch
		}()
	}
	for i := 0; i < n; i++ {
		<-ready
	}
	time.Sleep(200 * time.Millisecond) // let the last ones reach <-ch
	runtime.GC()
	after := rssKB()
	close(ch)
	fmt.Printf("parked %.3f KB/goroutine\n", float64(after-before)/float64(n))
}
