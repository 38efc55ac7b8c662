"""Kinesis Data Streams for keibi's tests (written for keibi, Apache-2.0).

    python moto_kinesis.py serve PORT
        runs moto server (PyPI) on 127.0.0.1:PORT with its Kinesis corrected where
        moto 5.2 departs from what AWS documents about resharding (below).
    python moto_kinesis.py create ENDPOINT STREAM SHARDS
        creates a provisioned stream of SHARDS shards and waits until it is ACTIVE.
    python moto_kinesis.py reshard ENDPOINT STREAM TARGET
        UpdateShardCount (UNIFORM_SCALING) to TARGET open shards.
    python moto_kinesis.py dump ENDPOINT STREAM
        prints as JSON every record of every shard read from TRIM_HORIZON with
        boto3: [{"shard", "sequence", "key", "data" (base64)}], shards by id.

What moto 5.2.5 does, and what AWS documents ("Resharding a stream", GetRecords,
ListShards), which `serve` makes it do:

1. After a split or merge, moto still routes new records to the closed parent
   (its shard lookup ignores whether a shard is open, and the parent comes first);
   AWS routes them to the open child whose hash key range holds the key.
2. A split re-puts the parent's records (into the parent itself, given 1) and a
   merge copies both parents' records into the child, under new sequence numbers;
   AWS leaves a parent's records in the parent until they expire, and a child
   starts empty.
3. GetRecords on a closed shard always returns a NextShardIterator; AWS returns
   none once the shard's last record has been read, which is how a consumer knows
   to move on to the children.

Nothing else is changed: ListShards, GetShardIterator (TRIM_HORIZON,
AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP), PutRecords and the sequence numbers are
moto's own (per-shard counters from 1, where AWS's are 56-digit numbers).
"""

import base64
import json
import sys
import time


def patch():
    from moto.kinesis import models
    from moto.kinesis.utils import decompose_shard_iterator

    def get_shard_for_key(self, partition_key, explicit_hash_key):
        if explicit_hash_key:
            key = int(explicit_hash_key)
        else:
            key = int(models.md5_hash(partition_key.encode("utf-8")).hexdigest(), 16)
        for shard in self.shards.values():
            if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
                return shard
        return None

    def split_shard(self, shard_to_split, new_starting_hash_key):
        start = int(new_starting_hash_key)
        shard = self.shards[shard_to_split]
        if not (shard.starting_hash < start < shard.ending_hash) or not shard.is_open:
            raise models.InvalidArgumentError(message=f"cannot split {shard_to_split}")
        last = max(s._shard_id for s in self.shards.values())
        for i, (lo, hi) in enumerate(
            [(shard.starting_hash, start - 1), (start, shard.ending_hash)]
        ):
            child = models.Shard(last + 1 + i, lo, hi, parent=shard.shard_id)
            self.shards[child.shard_id] = child
        shard.is_open = False

    def merge_shards(self, shard_to_merge, adjacent_shard_to_merge):
        a = self.shards[shard_to_merge]
        b = self.shards[adjacent_shard_to_merge]
        if a.ending_hash + 1 != b.starting_hash:
            raise models.InvalidArgumentError(adjacent_shard_to_merge)
        last = max(s._shard_id for s in self.shards.values())
        child = models.Shard(
            last + 1,
            a.starting_hash,
            b.ending_hash,
            parent=a.shard_id,
            adjacent_parent=b.shard_id,
        )
        self.shards[child.shard_id] = child
        a.is_open = False
        b.is_open = False

    original_get_records = models.KinesisBackend.get_records

    def get_records(self, stream_arn, shard_iterator, limit):
        stream_name, shard_id, _ = decompose_shard_iterator(shard_iterator)
        next_iterator, records, behind = original_get_records(
            self, stream_arn, shard_iterator, limit
        )
        stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
        shard = stream.get_shard(shard_id)
        _, _, last = decompose_shard_iterator(next_iterator)
        if not shard.is_open and int(last) >= shard.get_max_sequence_number():
            next_iterator = None
        return next_iterator, records, behind

    models.Stream.get_shard_for_key = get_shard_for_key
    models.Stream.split_shard = split_shard
    models.Stream.merge_shards = merge_shards
    models.KinesisBackend.get_records = get_records


def client(endpoint):
    import boto3

    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1")


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        patch()
        from moto.server import main as serve

        serve(["-H", "127.0.0.1", "-p", sys.argv[2]])
    elif cmd == "create":
        k = client(sys.argv[2])
        k.create_stream(StreamName=sys.argv[3], ShardCount=int(sys.argv[4]))
        for _ in range(100):
            desc = k.describe_stream_summary(StreamName=sys.argv[3])
            if desc["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                break
            time.sleep(0.1)
    elif cmd == "reshard":
        k = client(sys.argv[2])
        k.update_shard_count(
            StreamName=sys.argv[3],
            TargetShardCount=int(sys.argv[4]),
            ScalingType="UNIFORM_SCALING",
        )
    elif cmd == "dump":
        k = client(sys.argv[2])
        out = []
        for s in k.list_shards(StreamName=sys.argv[3])["Shards"]:
            it = k.get_shard_iterator(
                StreamName=sys.argv[3],
                ShardId=s["ShardId"],
                ShardIteratorType="TRIM_HORIZON",
            )["ShardIterator"]
            while it:
                page = k.get_records(ShardIterator=it, Limit=10000)
                for r in page["Records"]:
                    out.append(
                        {
                            "shard": s["ShardId"],
                            "sequence": r["SequenceNumber"],
                            "key": r["PartitionKey"],
                            "data": base64.b64encode(r["Data"]).decode(),
                        }
                    )
                if not page["Records"]:
                    break
                it = page.get("NextShardIterator")
        print(json.dumps(out))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
