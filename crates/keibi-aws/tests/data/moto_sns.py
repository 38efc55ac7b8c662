"""The receiving side of keibi-aws's SNS tests (written for keibi, Apache-2.0).

Talks to a moto server (PyPI, `moto_server`) with boto3, which moto brings:

    python moto_sns.py setup ENDPOINT
        creates the topic `keibi-alerts` and two SQS queues subscribed to it: `all`
        and `critical`, whose subscription has the filter policy
        {"severity": [{"numeric": [">=", 9]}]}; and the FIFO topic
        `keibi-alerts.fifo` with the FIFO queue `fifo.fifo`. Prints the ARNs and queue
        URLs as JSON.
    python moto_sns.py read ENDPOINT QUEUE_URL
        prints as JSON the SNS envelopes (Subject, Message, MessageAttributes ...) of
        every message waiting in the queue, and deletes them.
"""

import json
import sys

import boto3

REGION = "ap-northeast-1"


def client(kind, endpoint):
    return boto3.client(kind, endpoint_url=endpoint, region_name=REGION)


def queue(sqs, sns, topic_arn, name, policy=None, fifo=False):
    attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sub = {}
    if policy:
        sub["FilterPolicy"] = json.dumps(policy)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=sub)
    return url


def setup(endpoint):
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    topic = sns.create_topic(Name="keibi-alerts")["TopicArn"]
    fifo_topic = sns.create_topic(
        Name="keibi-alerts.fifo", Attributes={"FifoTopic": "true"}
    )["TopicArn"]
    out = {
        "topic_arn": topic,
        "fifo_topic_arn": fifo_topic,
        "all": queue(sqs, sns, topic, "all"),
        "critical": queue(
            sqs, sns, topic, "critical", {"severity": [{"numeric": [">=", 9]}]}
        ),
        "fifo": queue(sqs, sns, fifo_topic, "fifo.fifo", fifo=True),
    }
    print(json.dumps(out))


def read(endpoint, url):
    sqs = client("sqs", endpoint)
    got = []
    while True:
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        msgs = r.get("Messages", [])
        if not msgs:
            break
        for m in msgs:
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    print(json.dumps(got))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
    else:
        read(sys.argv[2], sys.argv[3])
