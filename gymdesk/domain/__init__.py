"""The pure domain: the topic contract, tables, incremental aggregates and alert rules."""
