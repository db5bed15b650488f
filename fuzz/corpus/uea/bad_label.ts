#made-up cases
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 1
@equalLength true
@seriesLength 3
@classLabel true up down
@data
1,2,3:left
