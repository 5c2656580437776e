"""Recording conditions: the pure signal functions, the transforms training draws from and the named conditions of the robustness report."""
