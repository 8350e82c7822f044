/** Placeholder: `roger-printer`, the reference printer agent (clients/roger-printer/README.md). */
