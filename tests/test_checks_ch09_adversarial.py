"""Each checker of section 9.10 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import torch
from checker_contract import contract_tests


def fgsm_step(x, grad, eps):
    return (x + eps * grad.sign()).clamp(0, 1)


def project_linf(x_adv, x, eps):
    return (x + (x_adv - x).clamp(-eps, eps)).clamp(0, 1)


def worst_case_accuracy(correct):
    return float(np.asarray(correct).all(axis=0).mean())


def first_order_increase(grad, eps):
    return eps * grad.abs().sum().item()


REFERENCE = {"9.10.1": fgsm_step, "9.10.2": project_linf, "9.10.3": worst_case_accuracy,
             "9.10.4": first_order_increase}


def fgsm_in_place(x, grad, eps):
    x += eps * grad.sign()
    return x.clamp_(0, 1)


def project_in_place(x_adv, x, eps):
    x_adv.copy_((x + (x_adv - x).clamp(-eps, eps)).clamp(0, 1))
    return x_adv


WRONG = [
    ("9.10.1", lambda x, grad, eps: x + eps * grad.sign(), "did not clip"),
    ("9.10.1", lambda x, grad, eps: (x - eps * grad.sign()).clamp(0, 1), "against the gradient"),
    ("9.10.1", lambda x, grad, eps: (x + eps * grad).clamp(0, 1), "uses its sign"),
    ("9.10.1", lambda x, grad, eps: (x + eps * grad / grad.abs().max()).clamp(0, 1), "scaled the gradient"),
    ("9.10.1", lambda x, grad, eps: eps * grad.sign(), "returned the perturbation"),
    ("9.10.1", lambda x, grad, eps: (x + eps * torch.where(grad >= 0, 1.0, -1.0)).clamp(0, 1), "sign(0)"),
    ("9.10.1", fgsm_in_place, "in place"),
    ("9.10.1", lambda x, grad, eps: (x + eps * grad.sign()).clamp(0, 1)[0], "shape"),
    ("9.10.1", lambda x, grad, eps: [0.0], "should return a tensor"),
    ("9.10.1", lambda x, grad, eps: (x + 0.9 * eps * grad.sign()).clamp(0, 1), "differs from"),
    ("9.10.2", lambda x_adv, x, eps: x + (x_adv - x).clamp(-eps, eps), "did not clip"),
    ("9.10.2", lambda x_adv, x, eps: x_adv.clamp(0, 1), "only clipped"),
    ("9.10.2", lambda x_adv, x, eps: x_adv.clamp(-eps, eps), "the ball is around x"),
    ("9.10.2", lambda x_adv, x, eps: (x_adv - x).clamp(-eps, eps), "returned the perturbation"),
    ("9.10.2", lambda x_adv, x, eps: x + eps * (x_adv - x).sign(), "edge of the ball"),
    ("9.10.2", project_in_place, "in place"),
    ("9.10.2", lambda x_adv, x, eps: (x + (x_adv - x).clamp(-eps / 2, eps / 2)).clamp(0, 1), "largest |x_proj - x|"),
    ("9.10.3", lambda c: float(np.asarray(c).mean(axis=1).min()), "single strongest attack"),
    ("9.10.3", lambda c: float(np.asarray(c).mean()), "averaged over attacks"),
    ("9.10.3", lambda c: float(np.asarray(c).any(axis=0).mean()), "any attack failed"),
    ("9.10.3", lambda c: int(np.asarray(c).all(axis=0).sum()), "returned a count"),
    ("9.10.3", lambda c: float(np.asarray(c)[0].mean()), "expected"),
    ("9.10.3", lambda c: "high", "should be a number"),
    ("9.10.4", lambda grad, eps: eps * grad.sum().item(), "signed gradient"),
    ("9.10.4", lambda grad, eps: eps * grad.norm().item(), "L2 norm"),
    ("9.10.4", lambda grad, eps: eps * grad.abs().max().item(), "largest |g|"),
    ("9.10.4", lambda grad, eps: grad.abs().sum().item(), "forgot eps"),
    ("9.10.4", lambda grad, eps: 2 * eps * grad.abs().sum().item(), "expected"),
    ("9.10.4", lambda grad, eps: float("nan"), "finite"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
