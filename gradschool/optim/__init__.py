"""``gradschool.optim``: update rules (CS231n L7) and learning-rate schedules, PyTorch's API."""

from .optimizer import Optimizer
