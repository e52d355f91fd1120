// Command minrecv serves minrecv.Handler on a loopback address and prints
// the address it listens on, for scripts/bench-load.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/hookproof/hookproof/internal/minrecv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "minrecv:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	if err := http.Serve(ln, minrecv.Handler()); err != nil {
		fmt.Fprintln(os.Stderr, "minrecv:", err)
		os.Exit(1)
	}
}
