package compat

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

func kafkaGoTopic(t *testing.T, partitions int) string {
	topic := unique(t, "topic")
	client := &kafka.Client{Addr: kafka.TCP(brokers(t)...), Timeout: 30 * time.Second}
	resp, err := client.CreateTopics(context.Background(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 3},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Errors[topic]; err != nil {
		t.Fatal(err)
	}
	return topic
}

// kafka-go's Hash balancer is FNV-1a; its Murmur2Balancer is the Java one, used here.
func TestKafkaGoWriterPlacesKeysAsJavaWithItsMurmur2Balancer(t *testing.T) {
	compat(t, "segmentio/kafka-go", "github.com/segmentio/kafka-go", "writer with acks=all and the Murmur2 balancer: every record once, keys placed as Java")
	topic := kafkaGoTopic(t, 4)
	w := &kafka.Writer{Addr: kafka.TCP(brokers(t)...), Topic: topic, Balancer: &kafka.Murmur2Balancer{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	var msgs []kafka.Message
	for i := 0; i < 40; i++ {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("key-%d", i%8)), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	if n := len(storedRecords(t, topic)); n != 40 {
		t.Fatalf("stored %d records, want 40", n)
	}
	placedAsJava(t, topic)
}

func TestKafkaGoGroupReaderCommitsAndANewReaderResumes(t *testing.T) {
	compat(t, "segmentio/kafka-go", "github.com/segmentio/kafka-go", "group reader commits and a new reader of the group resumes")
	topic := kafkaGoTopic(t, 1)
	group := unique(t, "group")
	w := &kafka.Writer{Addr: kafka.TCP(brokers(t)...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond}
	var msgs []kafka.Message
	for i := 0; i < 10; i++ {
		msgs = append(msgs, kafka.Message{Value: []byte("v" + strconv.Itoa(i))})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	read := func(n int) []kafka.Message {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers(t), GroupID: group, Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		var got []kafka.Message
		for len(got) < n {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		return got
	}
	first := read(4)
	if first[0].Offset != 0 || first[3].Offset != 3 {
		t.Fatalf("first reader read offsets %d..%d", first[0].Offset, first[3].Offset)
	}
	second := read(6)
	if second[0].Offset != 4 {
		t.Fatalf("the second reader started at %d, not after the commit (4)", second[0].Offset)
	}
}

func TestKafkaGoConnListsPartitionsAndOffsets(t *testing.T) {
	compat(t, "segmentio/kafka-go", "github.com/segmentio/kafka-go", "conn reads partitions and first/last offsets")
	topic := kafkaGoTopic(t, 2)
	conn, err := kafka.Dial("tcp", brokers(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil || len(parts) != 2 {
		t.Fatalf("partitions: %v %v", parts, err)
	}
	leader := parts[0].Leader
	lc, err := kafka.DialLeader(context.Background(), "tcp", net.JoinHostPort(leader.Host, strconv.Itoa(leader.Port)), topic, parts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if _, err := lc.WriteMessages(kafka.Message{Value: []byte("x")}, kafka.Message{Value: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	first, last, err := lc.ReadOffsets()
	if err != nil || first != 0 || last != 2 {
		t.Fatalf("offsets %d..%d, %v", first, last, err)
	}
}
