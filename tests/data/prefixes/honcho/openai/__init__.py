class RateLimitError(Exception):
    """Stands in for openai-python's class: the traceback names it openai.RateLimitError."""
