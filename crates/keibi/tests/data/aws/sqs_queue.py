"""The SQS side of the s3_sqs tests, on moto server.

usage: sqs_queue.py ENDPOINT setup BUCKET QUEUE   -> prints the queue URL
       sqs_queue.py ENDPOINT send QUEUE_URL BODY  -> sends BODY as a message
       sqs_queue.py ENDPOINT count QUEUE_URL      -> prints messages left (visible + in flight)

`setup` creates the bucket and the queue (2 s visibility timeout, so a message not
deleted comes back quickly) and configures the bucket to notify the queue of every
created object, as `aws s3api put-bucket-notification-configuration` does; moto
then sends the s3:TestEvent and one S3 event message per object put.
"""
import sys

import boto3


def client(endpoint, name):
    return boto3.client(
        name,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def main():
    endpoint, what, *rest = sys.argv[1:]
    sqs = client(endpoint, "sqs")
    if what == "setup":
        bucket, queue = rest
        url = sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3 = client(endpoint, "s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        print(url)
    elif what == "send":
        url, body = rest
        sqs.send_message(QueueUrl=url, MessageBody=body)
    elif what == "count":
        (url,) = rest
        a = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
    else:
        sys.exit("unknown command " + what)


main()
