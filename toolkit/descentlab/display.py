"""Showing a static matplotlib Figure: displayed inside a notebook (where the inline
backend turns it into a PNG, headless too), returned anywhere else (scripts, tests)."""


def show_figure(fig):
    """Display ``fig`` in IPython and return None; outside IPython return ``fig``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return fig
    if get_ipython() is None:
        return fig
    display(fig)
    return None
