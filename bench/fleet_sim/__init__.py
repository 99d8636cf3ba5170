"""A fleet of simulated MySQL/MariaDB servers in one process, for benchmarks of continuous mode.

`model.Fleet` is the replication fleet (clusters of master, replicas, intermediate master);
`server.FleetSimulator` serves it on loopback ports with mysql-mimic and injects faults;
`control` drives a simulator running in another process (``python -m bench.fleet_sim``).
"""
