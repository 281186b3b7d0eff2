"""Studio mutations. Views, the API, tasks and commands all call these."""
