#!/usr/bin/env bash
# Starts a reference Apache Kafka 4.1 cluster in KRaft mode on loopback, for the
# differential suite (and anyone who wants to compare by hand):
#
#   fidelity/kafka/start.sh [--brokers N] [--port P] [--authorizer]
#
# N nodes (default 1), each broker and controller in one JVM, on ports P, P+1, … (default
# 29092) with controllers on P+100, … and a SASL_PLAINTEXT listener on P+200, … (PLAIN
# user alice/alice-secret, SCRAM-SHA-256/512 for users AlterUserScramCredentials adds,
# OAUTHBEARER with unsecured tokens). Settings follow broker-sim's defaults where Kafka's
# differ for tests: group.initial.rebalance.delay.ms 0; replication factors and min ISR fit
# the node count. With --authorizer the brokers run Kafka's StandardAuthorizer with
# allow.everyone.if.no.acl.found=true: every request is allowed until an ACL names its
# resource, and the ACL APIs work.
# Prints `PIDS=…` (the JVMs) and `BOOTSTRAP=host:port,…` once every broker
# accepts connections,
# then stays in the foreground; on exit (or SIGINT/SIGTERM) it stops the JVMs and removes
# their data. Kafka's jars come from Maven Central through fidelity/kafka/pom.xml, into
# target/reference-kafka/lib (Maven's own cache in ~/.m2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
brokers=1
port=29092
authorizer=false
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --authorizer) authorizer=true; shift ;;
    *) echo "start.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null; then
    echo "start.sh: $tool is missing (the polyglot machine has Java 17 and Maven)" >&2
    exit 3
  fi
done

lib="$root/target/reference-kafka/lib"
if [ ! -f "$lib/.resolved" ] || [ "$here/pom.xml" -nt "$lib/.resolved" ]; then
  rm -rf "$lib"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2
  touch "$lib/.resolved"
fi

run="$(mktemp -d "${TMPDIR:-/tmp}/reference-kafka.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

cat > "$run/log4j2.properties" <<LOG
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = \${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
LOG

rf=$(( brokers < 3 ? brokers : 3 ))
voters=""
bootstrap=""
for i in $(seq 1 "$brokers"); do
  voters+="${voters:+,}$i@127.0.0.1:$((port + 100 + i - 1))"
  bootstrap+="${bootstrap:+,}127.0.0.1:$((port + i - 1))"
done
cluster_id="MkU3OEVBNTcwNTJENDM2Qg"
for i in $(seq 1 "$brokers"); do
  p=$((port + i - 1)); c=$((port + 100 + i - 1)); dir="$run/node$i"
  mkdir -p "$dir"
  cat > "$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$c,SASL_PLAINTEXT://127.0.0.1:$((p + 200))
advertised.listeners=PLAINTEXT://127.0.0.1:$p,SASL_PLAINTEXT://127.0.0.1:$((p + 200))
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="fidelity";
connections.max.reauth.ms=3600000
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=$rf
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
CONF
  if [ "$authorizer" = true ]; then
    # Brokers, controllers and clients are all User:ANONYMOUS on these PLAINTEXT
    # listeners, so no super user: the nodes rely on the CLUSTER resource having no ACL
    # (allowed to everyone), and scenarios only set ACLs on their own topics and groups.
    cat >> "$dir/server.properties" <<CONF
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
CONF
  fi
  java -cp "$lib/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" >/dev/null
  java -Xms256m -Xmx768m -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$run/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$lib/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  pids+=($!)
done

started=$(date +%s%N)
for i in $(seq 1 "$brokers"); do
  p=$((port + i - 1))
  until (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
    if ! kill -0 "${pids[$((i - 1))]}" 2>/dev/null; then
      echo "start.sh: broker $i exited; its log:" >&2
      tail -n 40 "$run/node$i/stdout.log" "$run/node$i/server.log" >&2 || true
      exit 1
    fi
    if [ $(( ($(date +%s%N) - started) / 1000000000 )) -gt 120 ]; then
      echo "start.sh: broker $i did not open port $p within 120 s" >&2
      exit 1
    fi
    sleep 0.1
  done
done
echo "started $brokers node(s) in $(( ($(date +%s%N) - started) / 1000000 )) ms" >&2
# The JVMs' process ids, for whoever measures the brokers' CPU time and memory.
echo "PIDS=$(IFS=,; echo "${pids[*]}")"
echo "BOOTSTRAP=$bootstrap"
wait "${pids[@]}"
