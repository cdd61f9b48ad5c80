// kfake: franz-go's in-process fake Kafka as a process of its own, for the benchmark's
// peers run (client-tests/src/bin/bench/peers.rs): three brokers on loopback, the given
// topics created, "BOOTSTRAP=host:port,..." printed once it listens; it runs until its
// standard input closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"
)

type topics []string

func (t *topics) String() string     { return strings.Join(*t, ",") }
func (t *topics) Set(v string) error { *t = append(*t, v); return nil }

func main() {
	var seed topics
	brokers := flag.Int("brokers", 3, "number of brokers")
	flag.Var(&seed, "topic", "NAME:PARTITIONS to create (repeatable)")
	flag.Parse()
	opts := []kfake.Opt{kfake.NumBrokers(*brokers)}
	for _, t := range seed {
		name, n, ok := strings.Cut(t, ":")
		partitions, err := strconv.Atoi(n)
		if !ok || err != nil {
			fmt.Fprintf(os.Stderr, "kfake: -topic wants NAME:PARTITIONS, not %q\n", t)
			os.Exit(2)
		}
		opts = append(opts, kfake.SeedTopics(int32(partitions), name))
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kfake: %v\n", err)
		os.Exit(1)
	}
	defer cluster.Close()
	fmt.Printf("BOOTSTRAP=%s\n", strings.Join(cluster.ListenAddrs(), ","))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
}
