"""descentlab.sharpness: power iteration on Hessian-vector products against the exact
Hessian (torch.autograd.functional.hessian, eigenvalues by numpy's eigvalsh)."""
import numpy as np
import pytest
import torch

from descentlab.sharpness import hessian_vector_product, top_hessian_eigenvalue

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).to(F64)
    X = torch.randn(20, 3, dtype=F64)
    y = torch.randint(0, 3, (20,))
    return model, X, y


def _exact_hessian(model, X, y):
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    flat = torch.cat([p.detach().reshape(-1) for p in params])

    def loss(theta):
        out, k = X, 0
        ws = []
        for shape, n in zip(shapes, sizes, strict=True):
            ws.append(theta[k:k + n].reshape(shape))
            k += n
        out = torch.tanh(out @ ws[0].T + ws[1]) @ ws[2].T + ws[3]
        return torch.nn.functional.cross_entropy(out, y)

    return torch.autograd.functional.hessian(loss, flat).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_eigenvalue_matches_the_exact_hessian(seed):
    model, X, y = _tiny(seed)
    eig = np.linalg.eigvalsh(_exact_hessian(model, X, y))
    want = eig[np.argmax(np.abs(eig))]
    got = top_hessian_eigenvalue(model, torch.nn.functional.cross_entropy, X, y, iters=2000, tol=1e-12)
    assert got.converged and got.iterations < 2000
    assert abs(got.eigenvalue - want) <= 1e-6 * abs(want), (got, eig[-3:])


def test_hessian_vector_product_is_the_hessian_times_the_vector():
    model, X, y = _tiny(3)
    H = _exact_hessian(model, X, y)
    gen = np.random.default_rng(0)
    v = gen.normal(size=H.shape[0])
    parts, k = [], 0
    for p in model.parameters():
        parts.append(torch.from_numpy(v[k:k + p.numel()].reshape(p.shape)))
        k += p.numel()
    hv = torch.cat([h.reshape(-1) for h in hessian_vector_product(model, torch.nn.functional.cross_entropy,
                                                                  X, y, parts)]).numpy()
    assert np.max(np.abs(hv - H @ v)) <= 1e-12 * np.max(np.abs(H @ v))


def test_quadratic_loss_and_bookkeeping():
    """Least squares: the Hessian is 2 X^T X / n exactly. The weights, their grads and the
    mode are left alone; a seed gives the same answer twice; few iterations report
    converged=False."""
    gen = np.random.default_rng(1)
    X = torch.from_numpy(gen.normal(size=(30, 4)) * np.array([3.0, 1.0, 0.5, 0.1]))
    y = torch.from_numpy(gen.normal(size=(30, 1)))
    model = torch.nn.Linear(4, 1, bias=False).to(F64)
    model.eval()
    model.weight.grad = torch.full_like(model.weight, 7.0)
    before = model.weight.detach().clone()
    mse = torch.nn.functional.mse_loss
    want = np.linalg.eigvalsh(2 * X.numpy().T @ X.numpy() / 30)[-1]
    got = top_hessian_eigenvalue(model, mse, X, y, iters=200, tol=1e-13)
    assert abs(got.eigenvalue - want) <= 1e-9 * want and got.converged
    assert torch.equal(model.weight, before) and torch.equal(model.weight.grad, torch.full_like(before, 7.0))
    assert not model.training
    assert top_hessian_eigenvalue(model, mse, X, y, seed=5) == top_hessian_eigenvalue(model, mse, X, y, seed=5)
    short = top_hessian_eigenvalue(model, mse, X, y, iters=1, seed=5)
    assert short.iterations == 1 and not short.converged
