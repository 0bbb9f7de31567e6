import boto3

ALERTS = "arn:aws:sns:us-east-1:123456789012:alerts"


class Notifier:
    sns = boto3.client("sns")

    def send(self, text):
        self.sns.publish(TopicArn=ALERTS, Message=text)
