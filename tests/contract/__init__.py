"""Tests of the contract run's tooling (`tools/contract`)."""
