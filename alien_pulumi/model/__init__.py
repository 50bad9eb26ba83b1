"""Stage 1 and 2: the stack definition API and the validated ``StackSpec``."""
