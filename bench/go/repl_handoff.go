//go:build ignore

// Go analogue of lugo's piped REPL (bench/repl.sh): the main goroutine reads
// stdin line by line (bufio.Scanner) and hands each line to a worker goroutine
// over an unbuffered channel; the worker parses it as an integer, adds it to a
// running sum and replies on a second unbuffered channel. main waits for the
// reply before reading the next line. Prints the final sum.
// usage: go run repl_handoff.go < lines-of-integers
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

func main() {
	lines, replies := make(chan string), make(chan int)
	go func() {
		sum := 0
		for line := range lines {
			v, err := strconv.Atoi(line)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bad line:", line)
				os.Exit(1)
			}
			sum += v
			replies <- sum
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	last := 0
	for sc.Scan() {
		lines <- sc.Text()
		last = <-replies
	}
	fmt.Println(last)
}
