"""A scalar reverse-mode automatic differentiation engine, built in chapter 2.2.

:class:`Value` wraps one float. Every operation on Values records its inputs and
a closure that applies the chain rule locally; :meth:`Value.backward` visits the
graph in reverse topological order and fills ``.grad`` of every node with
d(output)/d(node). Later chapters import it from here (the chapter builds the
same class inline and checks that both agree)::

    from utils.autograd import Value
    w, x = Value(2.0), Value(-1.5)
    y = (w * x).tanh()
    y.backward()
    w.grad  # dy/dw = (1 - tanh(wx)**2) * x

Gradients accumulate (``+=``) as in PyTorch: set ``p.grad = 0.0`` on the
parameters before each new ``backward()``.
"""
from __future__ import annotations

import math
import numbers


class Value:
    """One real number in a computation graph, with its gradient ``grad``."""

    def __init__(self, data, _children=(), _op=""):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds one real number (int or float), got {type(data).__name__} {data!r}")
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None  # pushes self.grad to the children (chain rule)
        self._prev = tuple(_children)  # a tuple, not a set: a fixed, repeatable order
        self._op = _op

    @staticmethod
    def _lift(other):
        """A Value for ``other``, or NotImplemented (Python then raises a TypeError)."""
        if isinstance(other, Value):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Value(other)
        return NotImplemented

    def __add__(self, other):
        other = Value._lift(other)
        if other is NotImplemented:
            return other
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = Value._lift(other)
        if other is NotImplemented:
            return other
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, n):
        if isinstance(n, Value) or isinstance(n, bool) or not isinstance(n, numbers.Real):
            raise TypeError(f"the exponent must be a constant int or float, got {type(n).__name__}; "
                            "for a Value exponent write (n * x.log()).exp()")
        x, n = self.data, float(n)
        if x == 0 and n < 1 and n != 0:
            raise ValueError(f"0 ** {n:g} has an infinite derivative (or value); keep the base away from 0")
        if x < 0 and not n.is_integer():
            raise ValueError(f"({x:g}) ** {n:g}: a negative base needs an integer exponent (the result is not real)")
        out = Value(x**n, (self,), f"**{n:g}")

        def _backward():
            self.grad += (n * x ** (n - 1) if n != 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        other = Value._lift(other)
        return other if other is NotImplemented else self + (-other)

    def __truediv__(self, other):
        other = Value._lift(other)
        if other is NotImplemented:
            return other
        if other.data == 0:
            raise ZeroDivisionError(f"division by zero: {self.data:g} / 0")
        return self * other**-1

    def __radd__(self, other):  # other + self, when other is a plain number
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        other = Value._lift(other)
        return other if other is NotImplemented else other - self

    def __rtruediv__(self, other):
        other = Value._lift(other)
        return other if other is NotImplemented else other / self

    def _unary(self, value, local_grad, op):
        """A one-input node: ``value`` = op(self), d value / d self = ``local_grad``."""
        out = Value(value, (self,), op)

        def _backward():
            self.grad += local_grad * out.grad
        out._backward = _backward
        return out

    def exp(self):
        if self.data > 709.78:
            raise OverflowError(f"exp({self.data:g}) overflows float64 (largest finite float is ~1.8e308)")
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log is defined only for positive numbers, got log({self.data:g})")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self):
        return self._unary(max(self.data, 0.0), 1.0 if self.data > 0 else 0.0, "relu")

    def sigmoid(self):
        x = self.data  # two forms, so that exp never overflows
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return self._unary(s, s * (1.0 - s), "sigmoid")

    def backward(self):
        """Fill ``.grad`` of every node that this Value depends on with d self / d node."""
        topo, visited, stack = [], set(), [(self, False)]
        while stack:  # depth-first post-order without recursion (no limit on graph depth)
            node, children_done = stack.pop()
            if children_done:
                topo.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node._prev))
        self.grad = 1.0
        for node in reversed(topo):  # outputs before inputs: each grad is complete when used
            node._backward()

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"
