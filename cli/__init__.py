"""The command line: ``autograd-studio export``, ``gradcheck`` and ``train``.

``main.py`` dispatches to these modules. They use the engine (``viz``) and, to draw
pictures, the window's renderer (``ui``); nothing in ``viz`` or ``ui`` imports them.
"""
