"""Lambic: packaging and deploying an app to AWS Lambda and API Gateway."""
