@problemName X
@seriesWidth 3
@classLabel true a
@data
1:a
