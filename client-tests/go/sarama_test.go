package compat

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/IBM/sarama"
)

func saramaConfig(t *testing.T, test string) *sarama.Config {
	compat(t, "sarama", "github.com/IBM/sarama", test)
	cfg := sarama.NewConfig()
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	return cfg
}

func saramaTopic(t *testing.T, cfg *sarama.Config, partitions int32) string {
	admin, err := sarama.NewClusterAdmin(brokers(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topic := unique(t, "topic")
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 3}, false); err != nil {
		t.Fatal(err)
	}
	return topic
}

// sarama's default partitioner hashes keys with FNV-1a, not Java's murmur2: equal keys
// share a partition, but not the one a Java, librdkafka (murmur2_random) or franz-go
// producer would pick.
func TestSaramaKeyedProduceKeepsAKeyInOnePartition(t *testing.T) {
	cfg := saramaConfig(t, "keyed produce with acks=all: a key in one partition (sarama's own FNV-1a hash, not Java's murmur2)")
	topic := saramaTopic(t, cfg, 4)
	producer, err := sarama.NewSyncProducer(brokers(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	partitionOf := map[string]int32{}
	for i := 0; i < 40; i++ {
		key := fmt.Sprintf("key-%d", i%8)
		p, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(key), Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))})
		if err != nil {
			t.Fatal(err)
		}
		if before, ok := partitionOf[key]; ok && before != p {
			t.Fatalf("%s in partitions %d and %d", key, before, p)
		}
		partitionOf[key] = p
	}
	if n := len(storedRecords(t, topic)); n != 40 {
		t.Fatalf("stored %d records, want 40", n)
	}
}

type saramaHandler struct {
	mu   *sync.Mutex
	seen map[string]int
}

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		h.seen[string(m.Value)]++
		h.mu.Unlock()
		s.MarkMessage(m, "")
		s.Commit()
	}
	return nil
}

func TestSaramaGroupOfTwoReadsEachRecordOnceAndCommits(t *testing.T) {
	cfg := saramaConfig(t, "group of two reads each record once and commits")
	topic := saramaTopic(t, cfg, 4)
	group := unique(t, "group")
	producer, err := sarama.NewSyncProducer(brokers(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	producer.Close()
	handler := saramaHandler{mu: &sync.Mutex{}, seen: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for m := 0; m < 2; m++ {
		cg, err := sarama.NewConsumerGroup(brokers(t), group, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cg.Close()
			for ctx.Err() == nil {
				_ = cg.Consume(ctx, []string{topic}, handler)
			}
		}()
	}
	waitUntil(t, "every record is read", func() bool {
		handler.mu.Lock()
		defer handler.mu.Unlock()
		return len(handler.seen) == 60
	})
	admin, err := sarama.NewClusterAdmin(brokers(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	waitUntil(t, "the group's commits reach the end", func() bool {
		offsets, err := admin.ListConsumerGroupOffsets(group, nil)
		if err != nil {
			return false
		}
		var total int64
		for _, parts := range offsets.Blocks {
			for _, b := range parts {
				total += b.Offset
			}
		}
		return total == 60
	})
	cancel()
	wg.Wait()
	for v, n := range handler.seen {
		if n != 1 {
			t.Fatalf("%s read %d times", v, n)
		}
	}
}

func TestSaramaAdminListsTopicsAndDescribesGroups(t *testing.T) {
	cfg := saramaConfig(t, "cluster admin lists topics and describes an unknown group")
	topic := saramaTopic(t, cfg, 2)
	admin, err := sarama.NewClusterAdmin(brokers(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	topics, err := admin.ListTopics()
	if err != nil || topics[topic].NumPartitions != 2 {
		t.Fatalf("list topics: %v %v", topics[topic], err)
	}
	groups, err := admin.DescribeConsumerGroups([]string{unique(t, "nobody")})
	if err != nil || len(groups) != 1 {
		t.Fatalf("describe: %v %v", groups, err)
	}
	if err := admin.DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
}
