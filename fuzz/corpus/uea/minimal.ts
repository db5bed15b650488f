@classLabel true 1 2
@data
0.1:1
0.2:2
