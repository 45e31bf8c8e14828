"""Writes exporter-shaped ONNX graphs (built with onnx.helper) for crates/cli/tests/cli/import.rs:
a PyTorch-style NCHW CNN (shape subgraph before the Reshape, BatchNormalization to fold,
a strided "same" convolution), a tf2onnx-style LSTM (Transpose, ConstantOfShape zero state,
Squeeze, MatMul + Add), and PyTorch-style LSTM heads (out[:, -1, :] by Gather and by Slice, h_n[-1])."""
import sys, os
os.chdir(sys.argv[1])
import onnx, numpy as np
from onnx import helper as h, TensorProto as T, numpy_helper as nh
r = np.random.default_rng(0)
def init(n, a): return nh.from_array(np.asarray(a, dtype=np.float32), n)
# PyTorch-like CNN: NCHW, C=3, conv pad 1, BN, relu, maxpool 2, conv stride 2 + relu, flatten (Shape/Gather/Concat/Reshape), gemm, softmax
nodes = [
 h.make_node('Conv', ['x','w1','b1'], ['c1'], name='conv1', pads=[1,1,1,1], kernel_shape=[3,3]),
 h.make_node('BatchNormalization', ['c1','g','be','m','v'], ['bn1'], name='bn1', epsilon=1e-5),
 h.make_node('Relu', ['bn1'], ['r1'], name='relu1'),
 h.make_node('MaxPool', ['r1'], ['p1'], name='pool1', kernel_shape=[2,2], strides=[2,2]),
 h.make_node('Conv', ['p1','w2','b2'], ['c2'], name='conv2', pads=[0,0,1,1], kernel_shape=[3,3], strides=[2,2]),
 h.make_node('Relu', ['c2'], ['r2'], name='relu2'),
 h.make_node('Shape', ['r2'], ['s'], name='shape'),
 h.make_node('Gather', ['s','zero'], ['n'], name='g0', axis=0),
 h.make_node('Unsqueeze', ['n','ax0'], ['nu'], name='unsq'),
 h.make_node('Concat', ['nu','minus1'], ['shp'], name='cat', axis=0),
 h.make_node('Reshape', ['r2','shp'], ['f'], name='flatten'),
 h.make_node('Gemm', ['f','w3','b3'], ['y0'], name='fc', transB=1),
 h.make_node('Softmax', ['y0'], ['y'], name='sm', axis=1),
]
inits = [init('w1', r.normal(size=(4,3,3,3))*0.3), init('b1', r.normal(size=4)*0.1),
 init('g', r.uniform(0.5,1.5,4)), init('be', r.normal(size=4)*0.1), init('m', r.normal(size=4)*0.1), init('v', r.uniform(0.5,1.5,4)),
 init('w2', r.normal(size=(6,4,3,3))*0.3), init('b2', r.normal(size=6)*0.1),
 init('w3', r.normal(size=(5,6*2*2))*0.3), init('b3', r.normal(size=5)*0.1),
 nh.from_array(np.array(0, dtype=np.int64), 'zero'), nh.from_array(np.array([0], dtype=np.int64), 'ax0'), nh.from_array(np.array([-1], dtype=np.int64), 'minus1')]
g = h.make_graph(nodes, 'torchlike', [h.make_tensor_value_info('x', T.FLOAT, ['batch',3,8,8])], [h.make_tensor_value_info('y', T.FLOAT, ['batch',5])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('',17)]); onnx.checker.check_model(m); onnx.save(m, 'torchlike.onnx')
# Keras/tf2onnx-like LSTM: input [N, T, I] -> Transpose -> LSTM -> Squeeze(Y_h) -> MatMul + Add -> Sigmoid; initial_h from ConstantOfShape
Tn, I, H = 5, 3, 4
W = r.normal(size=(1,4*H,I))*0.3; R = r.normal(size=(1,4*H,H))*0.3; B = r.normal(size=(1,8*H))*0.1
nodes = [
 h.make_node('Transpose', ['x'], ['xt'], name='tr', perm=[1,0,2]),
 h.make_node('Shape', ['x'], ['sx'], name='shape'),
 h.make_node('Gather', ['sx','zero'], ['bn'], name='gb', axis=0),
 h.make_node('Unsqueeze', ['bn','ax0'], ['bnu'], name='ub'),
 h.make_node('Concat', ['one','bnu','hid'], ['hs'], name='cat', axis=0),
 h.make_node('ConstantOfShape', ['hs'], ['h0'], name='zeros'),
 h.make_node('LSTM', ['xt','W','R','B','','h0','h0'], ['Y','Yh'], name='lstm', hidden_size=H),
 h.make_node('Squeeze', ['Yh','ax0'], ['hl'], name='sq'),
 h.make_node('MatMul', ['hl','wd'], ['d'], name='dense'),
 h.make_node('Add', ['d','bd'], ['da'], name='bias'),
 h.make_node('Sigmoid', ['da'], ['y'], name='sig'),
]
inits = [init('W',W), init('R',R), init('B',B), init('wd', r.normal(size=(H,2))), init('bd', r.normal(size=2)*0.1),
 nh.from_array(np.array(0, dtype=np.int64), 'zero'), nh.from_array(np.array([0], dtype=np.int64), 'ax0'),
 nh.from_array(np.array([1], dtype=np.int64), 'one'), nh.from_array(np.array([H], dtype=np.int64), 'hid')]
g = h.make_graph(nodes, 'keraslike', [h.make_tensor_value_info('x', T.FLOAT, ['unk__1', Tn, I])], [h.make_tensor_value_info('y', T.FLOAT, ['unk__1', 2])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('',15)]); onnx.checker.check_model(m); onnx.save(m, 'keraslike.onnx')
Tn, I, H = 6, 3, 4
W = r.normal(size=(1,4*H,I))*0.3; R = r.normal(size=(1,4*H,H))*0.3; B = r.normal(size=(1,8*H))*0.1
def model(tail, name, extra):
    nodes = [h.make_node('Transpose', ['x'], ['xt'], name='tr', perm=[1,0,2]),
             h.make_node('LSTM', ['xt','W','R','B'], ['Y','Yh','Yc'], name='lstm', hidden_size=H)] + tail + [
             h.make_node('Gemm', ['last','wd','bd'], ['y'], name='fc', transB=1)]
    inits = [init('W',W), init('R',R), init('B',B), init('wd', r.normal(size=(2,H))), init('bd', r.normal(size=2)*0.1)] + extra
    g = h.make_graph(nodes, name, [h.make_tensor_value_info('x', T.FLOAT, ['batch', Tn, I])], [h.make_tensor_value_info('y', T.FLOAT, ['batch', 2])], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid('',17)]); onnx.checker.check_model(m); onnx.save(m, name + '.onnx')
# out[:, -1, :]
model([h.make_node('Squeeze', ['Y','ax1'], ['ys'], name='sq'), h.make_node('Transpose', ['ys'], ['yb'], name='tr2', perm=[1,0,2]),
       h.make_node('Gather', ['yb','m1'], ['last'], name='pick', axis=1)], 'torch_lstm_last',
      [nh.from_array(np.array([1], dtype=np.int64), 'ax1'), nh.from_array(np.array(-1, dtype=np.int64), 'm1')])
# h_n[-1]
model([h.make_node('Gather', ['Yh','m1'], ['last'], name='pick', axis=0)], 'torch_lstm_hn',
      [nh.from_array(np.array(-1, dtype=np.int64), 'm1')])
# slice variant: out[:, -1:, :] then flatten
model([h.make_node('Squeeze', ['Y','ax1'], ['ys'], name='sq'), h.make_node('Transpose', ['ys'], ['yb'], name='tr2', perm=[1,0,2]),
       h.make_node('Slice', ['yb','st','en','axs'], ['sl'], name='slice'), h.make_node('Flatten', ['sl'], ['last'], name='fl')], 'torch_lstm_slice',
      [nh.from_array(np.array([1], dtype=np.int64), 'ax1'), nh.from_array(np.array([-1], dtype=np.int64), 'st'),
       nh.from_array(np.array([2**62], dtype=np.int64), 'en'), nh.from_array(np.array([1], dtype=np.int64), 'axs')])
# Weight-only QDQ: int8 weights with a per-channel scale, DequantizeLinear folded at import.
wq = r.integers(-127, 128, size=(4, 6)).astype(np.int8)
ws = (r.uniform(0.005, 0.02, size=4)).astype(np.float32)
nodes = [h.make_node('DequantizeLinear', ['wq', 'ws', 'wz'], ['w'], name='dq', axis=0),
         h.make_node('Gemm', ['x', 'w', 'b'], ['g'], name='fc', transB=1), h.make_node('Tanh', ['g'], ['y'], name='act')]
inits = [nh.from_array(wq, 'wq'), nh.from_array(ws, 'ws'), nh.from_array(np.zeros(4, dtype=np.int8), 'wz'), init('b', r.normal(size=4) * 0.1)]
g = h.make_graph(nodes, 'wq', [h.make_tensor_value_info('x', T.FLOAT, ['batch', 6])], [h.make_tensor_value_info('y', T.FLOAT, ['batch', 4])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)]); onnx.checker.check_model(m); onnx.save(m, 'weight_only_qdq.onnx')
# tf2onnx-style Keras CNN on NHWC input: Transpose to NCHW around the Conv, GlobalAveragePooling2D as ReduceMean.
nodes = [h.make_node('Transpose', ['x'], ['xn'], name='to_nchw', perm=[0, 3, 1, 2]),
         h.make_node('Conv', ['xn', 'cw', 'cb'], ['c'], name='conv', kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         h.make_node('Relu', ['c'], ['cr'], name='relu'),
         h.make_node('Transpose', ['cr'], ['ch'], name='to_nhwc', perm=[0, 2, 3, 1]),
         h.make_node('ReduceMean', ['ch'], ['gap'], name='gap', axes=[1, 2], keepdims=0),
         h.make_node('MatMul', ['gap', 'dw'], ['d'], name='dense'), h.make_node('Add', ['d', 'db'], ['da'], name='bias'),
         h.make_node('Softmax', ['da'], ['y'], name='softmax', axis=-1)]
inits = [init('cw', r.normal(size=(5, 3, 3, 3)) * 0.3), init('cb', r.normal(size=5) * 0.1), init('dw', r.normal(size=(5, 3))), init('db', r.normal(size=3) * 0.1)]
g = h.make_graph(nodes, 'keras_cnn', [h.make_tensor_value_info('x', T.FLOAT, ['unk__0', 6, 6, 3])], [h.make_tensor_value_info('y', T.FLOAT, ['unk__0', 3])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)]); onnx.checker.check_model(m); onnx.save(m, 'keras_cnn.onnx')
