package dev.brokersim.compat;

import static dev.brokersim.compat.Cluster.props;
import static dev.brokersim.compat.Cluster.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** kafka-clients' AdminClient: topics, partitions, configs, leaders, log dirs, reassignments, groups, offsets, records. */
@ExtendWith(CompatRows.class)
@CompatRows.Client(value = "kafka-clients (Java)", versionOf = AppInfoParser.class)
class AdminTest {

    @Test
    void admin_creates_describes_and_deletes_topics() throws Exception {
        String topic = unique("admin-topic");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 2))).all().get();
            ExecutionException again = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic(topic, 3, (short) 2))).all().get());
            assertTrue(again.getCause() instanceof TopicExistsException, again.toString());
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            assertEquals(3, d.partitions().size());
            d.partitions().forEach(p -> assertEquals(2, p.replicas().size()));
            assertTrue(admin.listTopics().names().get().contains(topic));
            admin.deleteTopics(List.of(topic)).all().get();
            assertFalse(admin.listTopics().names().get().contains(topic));
        }
    }

    @Test
    void admin_adds_partitions_and_describes_the_cluster() throws Exception {
        String topic = unique("admin-partitions");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
            assertEquals(4, admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size());
            assertEquals(3, admin.describeCluster().nodes().get().size());
            assertTrue(admin.describeCluster().controller().get().id() >= 1);
        }
    }

    @Test
    void admin_describes_topic_configs() throws Exception {
        String topic = unique("admin-configs");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "60000")))).all().get();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            ConfigEntry retention = config.get("retention.ms");
            assertEquals("60000", retention.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, retention.source());
            assertEquals("delete", config.get("cleanup.policy").value());
        }
    }

    @Test
    void admin_alters_topic_configs() throws Exception {
        String topic = unique("admin-alter");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND))))
                    .all().get();
            Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
            assertEquals("1000", config.get("retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("retention.ms").source());
            assertEquals("delete,compact", config.get("cleanup.policy").value());

            admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE))))
                    .all().get();
            ConfigEntry retention = admin.describeConfigs(List.of(resource)).all().get().get(resource).get("retention.ms");
            assertEquals("604800000", retention.value());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, retention.source());

            ExecutionException invalid = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.incrementalAlterConfigs(Map.of(resource, List.of(
                            new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET))))
                            .all().get());
            assertTrue(invalid.getCause() instanceof org.apache.kafka.common.errors.InvalidConfigurationException,
                    invalid.toString());
        }
    }

    /** Dynamic broker configs: a cluster-wide default a topic inherits, and a broker's own. */
    @Test
    void admin_alters_dynamic_broker_configs() throws Exception {
        String topic = unique("admin-broker-default");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            ConfigResource cluster = new ConfigResource(ConfigResource.Type.BROKER, "");
            ConfigResource topicResource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(cluster, List.of(
                    new AlterConfigOp(new ConfigEntry("log.retention.ms", "604800001"), AlterConfigOp.OpType.SET))))
                    .all().get();
            try {
                ConfigEntry inherited = admin.describeConfigs(List.of(topicResource)).all().get()
                        .get(topicResource).get("retention.ms");
                assertEquals("604800001", inherited.value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, inherited.source());
                ConfigEntry clusterWide = admin.describeConfigs(List.of(cluster)).all().get()
                        .get(cluster).get("log.retention.ms");
                assertEquals("604800001", clusterWide.value());
            } finally {
                admin.incrementalAlterConfigs(Map.of(cluster, List.of(
                        new AlterConfigOp(new ConfigEntry("log.retention.ms", null), AlterConfigOp.OpType.DELETE))))
                        .all().get();
            }
            ConfigEntry back = admin.describeConfigs(List.of(topicResource)).all().get()
                    .get(topicResource).get("retention.ms");
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, back.source());

            String broker = Integer.toString(admin.describeCluster().nodes().get().iterator().next().id());
            ConfigResource one = new ConfigResource(ConfigResource.Type.BROKER, broker);
            ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.incrementalAlterConfigs(Map.of(one, List.of(
                            new AlterConfigOp(new ConfigEntry("broker.id", "9"), AlterConfigOp.OpType.SET))))
                            .all().get());
            assertTrue(refused.getCause() instanceof org.apache.kafka.common.errors.InvalidRequestException,
                    refused.toString());
        }
    }

    @Test
    void admin_elects_preferred_leaders_and_describes_log_dirs() throws Exception {
        String topic = unique("admin-elect");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 3))).all().get();
            List<Integer> replicas = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().get(0).replicas().stream().map(n -> n.id()).toList();
            // Leadership moved away from the preferred (first) replica, by the cluster's hand.
            Cluster.controlPost("/v1/topics/" + topic + "/partitions/0/leader", "{\"broker\": " + replicas.get(1) + "}");
            Map<TopicPartition, java.util.Optional<Throwable>> elected =
                    admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, Set.of(tp)).partitions().get();
            assertEquals(java.util.Optional.empty(), elected.get(tp));
            assertEquals((int) replicas.get(0), admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().get(0).leader().id());
            java.util.Optional<Throwable> again =
                    admin.electLeaders(org.apache.kafka.common.ElectionType.PREFERRED, Set.of(tp)).partitions().get().get(tp);
            assertTrue(again.isPresent()
                    && again.get() instanceof org.apache.kafka.common.errors.ElectionNotNeededException, again.toString());

            try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
                ClientsTest.send(producer, topic, 0, 5);
            }
            var dirs = admin.describeLogDirs(replicas).allDescriptions().get();
            for (int broker : replicas) {
                var infos = dirs.get(broker).values().stream()
                        .flatMap(d -> d.replicaInfos().entrySet().stream())
                        .filter(e -> e.getKey().equals(tp)).toList();
                assertEquals(1, infos.size(), "broker " + broker + ": " + dirs.get(broker));
                assertTrue(infos.get(0).getValue().size() > 0, "broker " + broker + " holds the records");
            }
        }
    }

    @Test
    void admin_reassigns_a_partition_to_other_brokers() throws Exception {
        String topic = unique("admin-reassign");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
                ClientsTest.send(producer, topic, 0, 5);
            }
            int from = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().get(0).replicas().get(0).id();
            List<Integer> target = List.of(1, 2, 3).stream().filter(b -> b != from).toList();
            admin.alterPartitionReassignments(Map.of(tp, java.util.Optional.of(
                    new org.apache.kafka.clients.admin.NewPartitionReassignment(target)))).all().get();
            // Followers copy at once here, so the move is complete when the call returns.
            assertTrue(admin.listPartitionReassignments().reassignments().get().isEmpty());
            var partition = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().get(0);
            assertEquals(target, partition.replicas().stream().map(n -> n.id()).toList());
            assertEquals((int) target.get(0), partition.leader().id());
            try (KafkaConsumer<String, String> consumer = ClientsTest.consumer(null, Map.of())) {
                consumer.assign(List.of(tp));
                assertEquals(5, ClientsTest.read(consumer, 5).size(), "the records moved with the replicas");
            }
        }
    }

    @Test
    void admin_lists_offsets_and_deletes_records() throws Exception {
        String topic = unique("admin-records");
        ClientsTest.createTopic(topic, 1);
        try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
            ClientsTest.send(producer, topic, 0, 10);
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = Admin.create(props())) {
            assertEquals(10, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all().get().get(tp).offset());
            assertEquals(0, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset());
            admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).all().get();
            assertEquals(4, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all().get().get(tp).offset());
        }
    }

    @Test
    void admin_lists_describes_and_deletes_consumer_groups_and_their_offsets() throws Exception {
        String topic = unique("admin-groups");
        String group = unique("group");
        ClientsTest.createTopic(topic, 2);
        try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of())) {
            ClientsTest.send(producer, topic, 0, 10);
        }
        try (Admin admin = Admin.create(props())) {
            try (KafkaConsumer<String, String> c = ClientsTest.consumer(group, Map.of())) {
                c.subscribe(List.of(topic));
                ClientsTest.read(c, 10);
                c.commitSync();
                Cluster.waitUntil("the group is listed", () -> {
                    try {
                        return admin.listGroups().all().get().stream().map(GroupListing::groupId).anyMatch(group::equals);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
                assertEquals(1, d.members().size());
                assertEquals(2, d.members().iterator().next().assignment().topicPartitions().size());
            }
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            long committed = offsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
            assertEquals(10, committed);
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(0))).all().get();
            assertEquals(0, admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                    .get(new TopicPartition(topic, 0)).offset());
            admin.deleteConsumerGroups(List.of(group)).all().get();
            Set<String> left = admin.listGroups().all().get().stream().map(GroupListing::groupId).collect(java.util.stream.Collectors.toSet());
            assertFalse(left.contains(group));
        }
    }

    @Test
    void admin_stores_describes_and_deletes_scram_credentials() throws Exception {
        String user = unique("scram-user");
        var sha256 = new org.apache.kafka.clients.admin.ScramCredentialInfo(
                org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256, 4096);
        var sha512 = new org.apache.kafka.clients.admin.ScramCredentialInfo(
                org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512, 8192);
        try (Admin admin = Admin.create(props())) {
            admin.alterUserScramCredentials(List.of(
                    new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(user, sha256, "secret"),
                    new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(user + "-2", sha512, "other")))
                    .all().get();
            var described = admin.describeUserScramCredentials(List.of(user)).description(user).get();
            assertEquals(List.of(sha256).toString(), described.credentialInfos().toString());
            assertTrue(admin.describeUserScramCredentials().users().get().containsAll(List.of(user, user + "-2")));

            admin.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialDeletion(
                    user, org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256))).all().get();
            ExecutionException gone = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.describeUserScramCredentials(List.of(user)).description(user).get());
            assertTrue(gone.getCause() instanceof org.apache.kafka.common.errors.ResourceNotFoundException, gone.toString());
            ExecutionException tooFew = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(
                            user, new org.apache.kafka.clients.admin.ScramCredentialInfo(
                                    org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256, 100), "secret")))
                            .all().get());
            assertTrue(tooFew.getCause() instanceof org.apache.kafka.common.errors.UnacceptableCredentialException,
                    tooFew.toString());
        }
    }

    @Test
    void admin_describes_features_and_validates_a_feature_update() throws Exception {
        try (Admin admin = Admin.create(props())) {
            var finalized = admin.describeFeatures().featureMetadata().get().finalizedFeatures();
            assertEquals(2, finalized.get("transaction.version").maxVersionLevel(), finalized.toString());
            // A dry run of a downgrade: accepted, and nothing changes.
            admin.updateFeatures(Map.of("transaction.version", new org.apache.kafka.clients.admin.FeatureUpdate(
                            (short) 1, org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.SAFE_DOWNGRADE)),
                    new org.apache.kafka.clients.admin.UpdateFeaturesOptions().validateOnly(true)).all().get();
            assertEquals(2, admin.describeFeatures().featureMetadata().get().finalizedFeatures()
                    .get("transaction.version").maxVersionLevel());
            ExecutionException tooHigh = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.updateFeatures(Map.of("transaction.version", new org.apache.kafka.clients.admin.FeatureUpdate(
                            (short) 3, org.apache.kafka.clients.admin.FeatureUpdate.UpgradeType.UPGRADE)),
                            new org.apache.kafka.clients.admin.UpdateFeaturesOptions()).all().get());
            assertTrue(tooHigh.getCause() instanceof org.apache.kafka.common.errors.InvalidUpdateVersionException,
                    tooHigh.toString());
        }
    }

    @Test
    void admin_without_an_authorizer_is_told_security_is_disabled() throws Exception {
        try (Admin admin = Admin.create(props())) {
            ExecutionException acls = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.describeAcls(org.apache.kafka.common.acl.AclBindingFilter.ANY).values().get());
            assertTrue(acls.getCause() instanceof org.apache.kafka.common.errors.SecurityDisabledException, acls.toString());
            ExecutionException token = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.createDelegationToken().delegationToken().get());
            assertTrue(token.getCause() instanceof org.apache.kafka.common.errors.UnsupportedByAuthenticationException,
                    token.toString());
        }
    }

    @Test
    void admin_lists_config_resources_moves_replicas_within_their_dir_and_unregisters_brokers() throws Exception {
        String topic = unique("admin-resources");
        try (Admin admin = Admin.create(props())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            var resources = admin.listConfigResources(Set.of(ConfigResource.Type.TOPIC, ConfigResource.Type.BROKER),
                    new org.apache.kafka.clients.admin.ListConfigResourcesOptions()).all().get();
            assertTrue(resources.contains(new ConfigResource(ConfigResource.Type.TOPIC, topic)), resources.toString());
            assertTrue(resources.contains(new ConfigResource(ConfigResource.Type.BROKER, "1")), resources.toString());

            int broker = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                    .partitions().get(0).leader().id();
            String dir = admin.describeLogDirs(List.of(broker)).allDescriptions().get().get(broker).keySet().iterator().next();
            var replica = new org.apache.kafka.common.TopicPartitionReplica(topic, 0, broker);
            admin.alterReplicaLogDirs(Map.of(replica, dir)).all().get();
            ExecutionException nowhere = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.alterReplicaLogDirs(Map.of(replica, "/nowhere")).all().get());
            assertTrue(nowhere.getCause() instanceof org.apache.kafka.common.errors.LogDirNotFoundException, nowhere.toString());

            ExecutionException unknown = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.unregisterBroker(42).all().get());
            assertTrue(unknown.getCause() instanceof org.apache.kafka.common.errors.BrokerIdNotRegisteredException,
                    unknown.toString());
        }
    }

    @Test
    void admin_sets_client_quotas_and_a_producer_over_its_byte_rate_is_throttled() throws Exception {
        String client = unique("quota-producer");
        var entity = new org.apache.kafka.common.quota.ClientQuotaEntity(
                Map.of(org.apache.kafka.common.quota.ClientQuotaEntity.CLIENT_ID, client));
        try (Admin admin = Admin.create(props())) {
            admin.alterClientQuotas(List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration(entity, List.of(
                    new org.apache.kafka.common.quota.ClientQuotaAlteration.Op("producer_byte_rate", 100_000.0)))))
                    .all().get();
            var filter = org.apache.kafka.common.quota.ClientQuotaFilter.containsOnly(List.of(
                    org.apache.kafka.common.quota.ClientQuotaFilterComponent.ofEntity(
                            org.apache.kafka.common.quota.ClientQuotaEntity.CLIENT_ID, client)));
            assertEquals(Map.of(entity, Map.of("producer_byte_rate", 100_000.0)),
                    admin.describeClientQuotas(filter).entities().get());

            // 1.1 MB in well under ten seconds: over 100 kB/s, so the broker reports a throttle
            // time, which the producer records in its metrics.
            String topic = unique("quota-topic");
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            try (KafkaProducer<String, String> producer = ClientsTest.producer(Map.of("client.id", client))) {
                String value = "x".repeat(100_000);
                for (int i = 0; i < 11; i++) {
                    producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, value)).get();
                }
                double throttled = producer.metrics().entrySet().stream()
                        .filter(e -> e.getKey().name().equals("produce-throttle-time-max"))
                        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                        .max().orElse(0);
                assertTrue(throttled > 0, "produce-throttle-time-max " + throttled);
            }
            admin.alterClientQuotas(List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration(entity, List.of(
                    new org.apache.kafka.common.quota.ClientQuotaAlteration.Op("producer_byte_rate", null)))))
                    .all().get();
            assertTrue(admin.describeClientQuotas(filter).entities().get().isEmpty());
        }
    }

    @Test
    void admin_describes_the_metadata_quorum_and_cannot_change_its_voters() throws Exception {
        try (Admin admin = Admin.create(props())) {
            var quorum = admin.describeMetadataQuorum().quorumInfo().get();
            int controller = admin.describeCluster().controller().get().id();
            assertEquals(controller, quorum.leaderId());
            assertEquals(List.of(1, 2, 3), quorum.voters().stream().map(v -> v.replicaId()).sorted().toList());
            assertTrue(quorum.voters().stream().allMatch(v -> v.logEndOffset() == quorum.highWatermark()),
                    quorum.toString());
            assertEquals(3, quorum.nodes().size(), quorum.toString());
            // A static quorum, as `controller.quorum.voters` makes: voters cannot change.
            ExecutionException added = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> admin.addRaftVoter(4, org.apache.kafka.common.Uuid.randomUuid(), Set.of(
                            new org.apache.kafka.clients.admin.RaftVoterEndpoint("CONTROLLER", "127.0.0.1", 1)))
                            .all().get());
            assertTrue(added.getCause() instanceof org.apache.kafka.common.errors.UnsupportedVersionException,
                    added.toString());
        }
    }
}
