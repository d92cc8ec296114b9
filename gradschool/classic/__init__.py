"""``gradschool.classic``: the chapter before neural networks (CS231n L2-L3, textbook ch. 3-4).

k-nearest neighbours with the course's three distance implementations, the linear SVM and
softmax classifiers with naive and vectorised losses, regression and logistic models, image
features (HOG, colour histograms) and model selection — written from scratch on NumPy with
scikit-learn's estimator conventions (``fit`` / ``predict`` / ``score``, hyperparameters in
``__init__``, learned state with a trailing underscore) and checked against scikit-learn.
"""

from .distances import *
from .features import *
from .linear_classifier import *
from .linear_model import *
from .model_selection import *
from .neighbors import *
from .preprocessing import *
