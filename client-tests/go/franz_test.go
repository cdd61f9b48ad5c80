package compat

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func franz(t *testing.T, test string, opts ...kgo.Opt) *kgo.Client {
	compat(t, "franz-go", "github.com/twmb/franz-go", test)
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers(t)...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func franzTopic(t *testing.T, cl *kgo.Client, partitions int32) string {
	topic := unique(t, "topic")
	resp, err := kadm.NewClient(cl).CreateTopics(context.Background(), partitions, 3, nil, topic)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range resp {
		if r.Err != nil {
			t.Fatalf("create %s: %v", topic, r.Err)
		}
	}
	return topic
}

func TestFranzKeyedProduceWithAcksAllLandsWhereJavaWouldPutIt(t *testing.T) {
	cl := franz(t, "keyed produce with acks=all: every record once, keys placed by murmur2 as Java", kgo.RequiredAcks(kgo.AllISRAcks()))
	topic := franzTopic(t, cl, 4)
	var records []*kgo.Record
	for i := 0; i < 40; i++ {
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("key-%d", i%8)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := cl.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	stored := storedRecords(t, topic)
	if len(stored) != 40 {
		t.Fatalf("stored %d records, want 40", len(stored))
	}
	for _, r := range records {
		if stored[string(r.Value)] != int(r.Partition) {
			t.Fatalf("%s acknowledged in partition %d, stored in %d", r.Value, r.Partition, stored[string(r.Value)])
		}
	}
	placedAsJava(t, topic)
}

func TestFranzGroupOfTwoReadsEachRecordOnceAndCommits(t *testing.T) {
	producer := franz(t, "group of two reads each record once and commits")
	topic := franzTopic(t, producer, 4)
	group := unique(t, "group")
	var records []*kgo.Record
	for i := 0; i < 60; i++ {
		records = append(records, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := producer.ProduceSync(context.Background(), records...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	members := make([]*kgo.Client, 2)
	for m := range members {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers(t)...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
			kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		members[m] = cl
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fetches := cl.PollFetches(ctx)
				fetches.EachRecord(func(r *kgo.Record) {
					mu.Lock()
					seen[string(r.Value)]++
					mu.Unlock()
				})
				_ = cl.CommitUncommittedOffsets(context.Background())
			}
		}()
	}
	waitUntil(t, "every record is read", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 60
	})
	adm := kadm.NewClient(producer)
	waitUntil(t, "the group's commits reach the end", func() bool {
		offsets, err := adm.FetchOffsets(context.Background(), group)
		if err != nil {
			return false
		}
		var total int64
		offsets.Each(func(o kadm.OffsetResponse) { total += o.At })
		return total == 60
	})
	described, err := adm.DescribeGroups(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(described[group].Members); n != 2 {
		t.Fatalf("%d members, want 2", n)
	}
	cancel()
	wg.Wait()
	for _, cl := range members {
		cl.Close()
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("%s read %d times", v, n)
		}
	}
}

func TestFranzAdminListsTopicsOffsetsAndGroups(t *testing.T) {
	cl := franz(t, "kadm lists topics, end offsets and deletes a topic")
	topic := franzTopic(t, cl, 2)
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Partition: 0, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	topics, err := adm.ListTopics(context.Background(), topic)
	if err != nil || len(topics[topic].Partitions) != 2 {
		t.Fatalf("list topics: %v %v", topics, err)
	}
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1 {
		t.Fatalf("end offsets sum to %d, want 1", total)
	}
	deleted, err := adm.DeleteTopics(context.Background(), topic)
	if err != nil || deleted[topic].Err != nil {
		t.Fatalf("delete: %v %v", deleted, err)
	}
}
