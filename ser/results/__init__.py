"""Results: scores on held-out speakers (`evaluate`), the robustness report, the offline HTML report and its figures."""
