"""Errors of the LLM step, sorted by what another attempt can do about them.

```
PlaitError
└── LLMError                                  a model call failed; .model, .status_code
    ├── LLMUnavailableError(ConnectionError)  unreachable, HTTP 408/409/429/5xx: a retry may work
    │   └── LLMTimeoutError(TimeoutError)     no complete reply within timeout_seconds
    ├── LLMRequestError(ValueError)           HTTP 4xx or bad step inputs: the same call fails again
    │   └── LLMAuthError(PermissionError)     HTTP 401/403, or the key's variable is not set
    └── LLMReplyError                         the reply never matched response_schema
```

Each class says in `retryable` whether another attempt can help. The engine's
default `RetryPolicy` retries every `Exception`, so a step that should fail at
once on a bad key or a malformed request lists
`no_retry_on: [plait.llm.LLMRequestError]` in its `retry` policy.
"""

from __future__ import annotations

from plait.errors import PlaitError


class LLMError(PlaitError):
    """A call to a language model failed."""

    retryable = True
    """Whether another attempt of the same call may succeed."""

    def __init__(
        self, message: str, *, model: str | None = None, status_code: int | None = None
    ) -> None:
        super().__init__(message)
        self.model = model
        """The model the step asked for."""
        self.status_code = status_code
        """The endpoint's HTTP status, or None when no HTTP reply came."""


class LLMUnavailableError(LLMError, ConnectionError):
    """The endpoint could not be reached, was overloaded (429) or failed (5xx)."""


class LLMTimeoutError(LLMUnavailableError, TimeoutError):
    """The model did not finish its reply within the step's `timeout_seconds` input."""


class LLMRequestError(LLMError, ValueError):
    """The endpoint refused the request (4xx), or the step's inputs cannot make one."""

    retryable = False


class LLMAuthError(LLMRequestError, PermissionError):
    """The endpoint refused the key (401/403), or no key is set in `api_key_env`."""


class LLMReplyError(LLMError):
    """The reply was not JSON matching `response_schema`, even after asking for fixes."""

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        content: str = "",
        problems: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, model=model)
        self.content = content
        """The last reply, as the model wrote it."""
        self.problems = problems
        """What was wrong with it, one line per problem."""
