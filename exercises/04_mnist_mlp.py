"""Exercise 04: teach a small Keras network to read handwritten digits (MNIST).

Source: dev-keras-mnist, a developer's walkthrough of the Keras MNIST network from François
Chollet's book "Deep Learning with Python"; its network scored 97.86 % on the test images.

You fill in three functions; the grader calls them in this order on the 60,000 training
images (or on a fixed slice of 10,000 of them with ``--quick``), saves your trained model and
then measures it on 10,000 test images it never showed you.

1. ``prepare_data`` turns the raw images and labels into what the network can learn from.
   * Each image is a 28 x 28 grid of whole numbers from 0 (empty background) to 255 (full
     ink). A Dense layer expects one flat row of inputs, so every grid becomes 784 numbers.
   * Those numbers are divided by 255 so that each lies between 0 and 1. With inputs in the
     hundreds, the weighted sums in the first layer are huge and an optimizer such as plain
     gradient descent takes wildly oversized steps; RMSprop copes better, but small inputs of
     similar size keep training stable whatever the optimizer. The grader also hands your
     trained model test images scaled this way, so it must be trained on the same scale.
   * A label such as 3 becomes a "one-hot" row of ten numbers: all zeros except a 1 at
     position 3, i.e. [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]. The network has one output per digit,
     and this row says what each of the ten outputs should ideally be.
2. ``build_model`` stacks the layers and chooses how they learn.
   * 784 inputs feed a Dense layer of 512 ReLU units (each unit: weighted sum plus bias,
     negative results clipped to 0), which feeds a Dense layer of 10 units.
   * The last layer uses softmax: it turns ten arbitrary scores into ten positive numbers
     that add up to 1, which we read as the network's confidence in each digit.
   * Parameters (weights and biases): 784 x 512 + 512 = 401,920 in the hidden layer and
     512 x 10 + 10 = 5,130 in the output layer, 407,050 in all.
   * ``compile`` picks the optimizer (RMSprop adjusts every weight a little, guided by the
     gradients that backpropagation computes), the loss (categorical cross-entropy, which is
     small when the softmax puts high confidence on the true digit) and the metric to report
     (accuracy, the share of images whose most confident output is the true digit).
3. ``train_model`` runs the learning loop with ``model.fit``.
   * A batch is the group of images whose errors are averaged for one weight update, so one
     pass over the images makes one update per batch (the last batch may be smaller).
   * An epoch is one complete pass over the training images. A handful of epochs is enough
     here; each one takes a couple of seconds on two CPU cores.
   * Budget: aim for at most about 20 seconds of training on all 60,000 images (the
     reference needs about 12 s on 2 CPU cores); runs that take far longer are stopped.
     Reaching 97 % on the test images earns full marks.

While you work, grade in quick mode (``--quick``); run the full check once you are done.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's C++ start-up log

import keras
import numpy as np


def prepare_data(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 28, 28) uint8 -> (n, 784) float32 in [0, 1]; labels (n,) -> one-hot (n, 10).

    Return new arrays; leave ``x`` and ``y`` unchanged.

    Example:
        x = np.zeros((2, 28, 28), dtype=np.uint8)
        x[0, 0, 0] = 255
        y = np.array([3, 0], dtype=np.uint8)
        x_prepared, y_onehot = prepare_data(x, y)
        x_prepared.shape, x_prepared.dtype   # (2, 784) float32
        x_prepared[0, :2].tolist()           # [1.0, 0.0]
        y_onehot[0].tolist()                 # [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    # TODO: flatten each image into 784 numbers and convert them to float32.
    # TODO: divide by 255 so every pixel lies between 0 and 1.
    # TODO: turn each label into a one-hot row of 10 float32 numbers
    #       (np.eye(10, dtype="float32")[y] or keras.utils.to_categorical both work).
    raise NotImplementedError("prepare_data")


def build_model() -> keras.Model:
    """Input(784) -> Dense(512, relu) -> Dense(10, softmax), compiled for training.

    Example:
        model = build_model()
        model.count_params()                 # 407050
        model.output_shape                   # (None, 10)
    """
    # TODO: stack keras.Input(shape=(784,)), a Dense layer of 512 "relu" units and a Dense
    #       layer of 10 "softmax" units in a keras.Sequential model.
    # TODO: compile it with optimizer="rmsprop", loss="categorical_crossentropy" and
    #       metrics=["accuracy"], then return it.
    raise NotImplementedError("build_model")


def train_model(model: keras.Model, x: np.ndarray, y: np.ndarray) -> keras.callbacks.History:
    """Fit ``model`` to the prepared images ``x`` and one-hot labels ``y``; return the History.

    Example:
        history = train_model(model, x_prepared, y_onehot)
        len(history.history["loss"])         # the number of epochs you chose
        history.history["accuracy"][-1]      # training accuracy after the last epoch
    """
    # TODO: choose the number of epochs and the batch size (try 5 epochs of 128 images and
    #       watch the time each epoch takes), call model.fit and return what it returns.
    raise NotImplementedError("train_model")
