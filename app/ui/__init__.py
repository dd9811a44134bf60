"""The PySide6 GUI: main window, panels, shared widgets and the job bridge (see DESIGN.md)."""
