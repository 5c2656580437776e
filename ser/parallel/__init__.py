"""Parallel work: worker processes on this machine that die with their parent (:mod:`.workers`), or the
workers of a Dask cluster when given one (:mod:`.cluster`)."""
