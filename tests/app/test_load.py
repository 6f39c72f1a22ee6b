"""20 visitors at once: every request answered (a bounded, untimed load run;
the 60 s figures live in bench/results.md)."""

from bench.load import allowed_test_queries, run_load


def test_twenty_concurrent_clients_all_answered(start_app, small_gallery, data_dir):
    url = start_app(small_gallery)
    result = run_load(url, allowed_test_queries(data_dir), clients=20, seconds=8)
    assert result["failures"] == 0, result["first_failure"]
    assert result["requests"] >= 20  # every client got at least one answer
