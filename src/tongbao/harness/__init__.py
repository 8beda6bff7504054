"""Tongbao as separate local processes (API, workers, simulators) for the benches and chaos runs.

Everything here listens and sends on 127.0.0.1 only, and every run is bounded in count and time.
"""
