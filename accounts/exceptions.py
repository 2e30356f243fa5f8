from config.exceptions import ApplicationError


class AccountError(ApplicationError):
    code = "account_error"


class EmailTaken(AccountError):
    code = "email_taken"


class InvalidToken(AccountError):
    code = "invalid_token"


class InvalidCredentials(AccountError):
    code = "invalid_credentials"
    status_code = 401
