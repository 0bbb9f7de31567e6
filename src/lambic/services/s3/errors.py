"""S3's errors: one exception carrying AWS's code, status, message and extra fields.

Hierarchy: `ServiceError` (services layer root) → `S3Error`. The protocol renders an
`S3Error` as AWS's XML error document
(`<Error><Code/><Message/>...<RequestId/><HostId/></Error>`); HEAD responses carry
no body, as on AWS. Messages are AWS's own wording so client code that matches on
them behaves the same locally.
"""

from __future__ import annotations

from lambic.services.base import ServiceError


class S3Error(ServiceError):
    """An S3 error response: `S3Error("NoSuchKey", Key="a.txt")`."""

    def __init__(self, code: str, message: str | None = None, **fields: str | int) -> None:
        status, default_message = _ERRORS.get(code, (400, code))
        self.code = code
        self.status = status
        self.message = message if message is not None else default_message
        self.fields: dict[str, str] = {name: str(value) for name, value in fields.items()}
        # Response headers the error carries (x-amz-delete-marker, x-amz-version-id).
        self.headers: list[tuple[str, str]] = []
        super().__init__(f"{code}: {self.message}")


# Code -> (HTTP status, AWS's default message). Source: the S3 API reference error list.
_ERRORS: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, "Access Denied"),
    "AccessForbidden": (403, "CORSResponse: CORS is not enabled for this bucket."),
    "BadRequest": (400, "Insufficient information. Origin request header needed."),
    "BadDigest": (400, "The Content-MD5 you specified did not match what we received."),
    "BucketAlreadyExists": (
        409,
        "The requested bucket name is not available. The bucket namespace is shared by all "
        "users of the system. Please select a different name and try again.",
    ),
    "BucketAlreadyOwnedByYou": (
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    ),
    "BucketNotEmpty": (409, "The bucket you tried to delete is not empty"),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed size"),
    "EntityTooSmall": (400, "Your proposed upload is smaller than the minimum allowed size"),
    "IllegalLocationConstraintException": (
        400,
        "The unspecified location constraint is incompatible for the region specific "
        "endpoint this request was sent to.",
    ),
    "IncompleteBody": (
        400,
        "The request body terminated unexpectedly",
    ),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidArgument": (400, "Invalid Argument"),
    "InvalidURI": (400, "Couldn't parse the specified URI."),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "InvalidDigest": (400, "The Content-MD5 you specified was invalid."),
    "InvalidPolicyDocument": (400, "Invalid Policy: Invalid JSON."),
    "MalformedPOSTRequest": (
        400,
        "The body of your POST request is not well-formed multipart/form-data.",
    ),
    "InvalidTag": (400, "The tag provided was not a valid tag."),
    "InvalidLocationConstraint": (400, "The specified location-constraint is not valid"),
    "InvalidPart": (
        400,
        "One or more of the specified parts could not be found.  The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag.",
    ),
    "InvalidPartOrder": (
        400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
    ),
    "InvalidPartNumber": (416, "The requested partnumber is not satisfiable"),
    "InvalidRange": (416, "The requested range is not satisfiable"),
    "InvalidRequest": (400, "Invalid Request"),
    "InvalidAccessKeyId": (
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "KeyTooLongError": (400, "Your key is too long"),
    "MalformedXML": (
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    ),
    "MetadataTooLarge": (400, "Your metadata headers exceed the maximum allowed metadata size"),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "MissingContentLength": (411, "You must provide the Content-Length HTTP header."),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchCORSConfiguration": (404, "The CORS configuration does not exist"),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchVersion": (404, "The specified version does not exist."),
    "NoSuchTagSet": (404, "The TagSet does not exist"),
    "InvalidRetentionPeriod": (400, "Default retention period must be a positive integer value."),
    "MalformedPolicy": (400, "Policies must be valid JSON and the first byte must be '{'"),
    "PolicyTooLarge": (400, "Policy exceeds the maximum allowed document size."),
    "MalformedACLError": (
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    ),
    "AccessControlListNotSupported": (400, "The bucket does not allow ACLs"),
    "InvalidBucketAclWithObjectOwnership": (
        400,
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
    ),
    "MissingSecurityHeader": (400, "Your request was missing a required header"),
    "UnresolvableGrantByEmailAddress": (
        400,
        "The e-mail address you provided does not match any account on record.",
    ),
    "NoSuchBucketPolicy": (404, "The bucket policy does not exist"),
    "NoSuchLifecycleConfiguration": (404, "The lifecycle configuration does not exist"),
    "NoSuchPublicAccessBlockConfiguration": (
        404,
        "The public access block configuration was not found",
    ),
    "OwnershipControlsNotFoundError": (404, "The bucket ownership controls were not found"),
    "ServerSideEncryptionConfigurationNotFoundError": (
        404,
        "The server side encryption configuration was not found",
    ),
    "ObjectLockConfigurationNotFoundError": (
        404,
        "Object Lock configuration does not exist for this bucket",
    ),
    "NoSuchObjectLockConfiguration": (
        404,
        "The specified object does not have a ObjectLock configuration",
    ),
    "InvalidBucketState": (409, "The request is not valid with the current state of the bucket."),
    "IllegalVersioningConfigurationException": (
        400,
        "The Versioning element must be specified",
    ),
    "NoSuchUpload": (
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
    ),
    "NotImplemented": (
        501,
        "A header you provided implies functionality that is not implemented",
    ),
    "PreconditionFailed": (412, "At least one of the pre-conditions you specified did not hold"),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
}
